"""worker.service"""
