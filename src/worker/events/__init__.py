"""worker.events"""
