"""Answer: the Vietnamese replies composed from a procedure record and the Hanoi layer, with sources."""
