"""Call recordings: uploaded by the switch after hangup, kept, served by expiring URLs."""
