"""worker.datasets"""
