"""On-call schedules: the data (``models``) and who is on call when (``oncall``); pure, no I/O."""
