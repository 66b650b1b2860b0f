"""worker.pubsub"""
