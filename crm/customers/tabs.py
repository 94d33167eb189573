"""The customer page's tabs: (label, endpoint, permission). Features add theirs here."""
TABS = {
    "overview": ("Overview", "customers.detail", "customers.view"),
    "contacts": ("Contacts", "contacts.panel", "customers.view"),
    "preferences": ("Preferences", "preferences.panel", "preferences.view"),
    "communications": ("Communications", "communications.panel", "communications.view"),
    "credit": ("Credit", "customers.detail", "customers.view"),
}
