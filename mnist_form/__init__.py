"""MNIST form, shared by training and the service: any picture of one digit -> 28 x 28, white on black.

Neither ``training`` nor ``service`` imports the other; both import this package.
"""
