"""Local development environment: the real emulators, started and stopped by PID."""
