"""The documented demo API key pair the paper exchange accepts when none is given.

Public on purpose: the paper exchange only listens on loopback and moves no real money.
"""

DEMO_API_KEY = "HinancePaperExchangeDemoApiKey0000000000000000000000000000000000"
DEMO_API_SECRET = "HinancePaperExchangeDemoSecret0000000000000000000000000000000000"
