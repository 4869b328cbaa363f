"""What each FreeSWITCH node reports now: its gateways' status, its registrations."""
