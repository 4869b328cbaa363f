"""The agent's desk: screen pop and the agent's events (`dialer.desk.service`), pushed from
the listeners to every API process through Redis pub/sub (`dialer.desk.adapters`)."""
