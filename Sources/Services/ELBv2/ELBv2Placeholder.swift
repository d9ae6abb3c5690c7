// The ELBv2 service's files land here (issue 16).
