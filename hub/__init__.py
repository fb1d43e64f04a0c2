"""CaseHub: the complaint-collaboration hub between live-commerce hosts and brands."""
