"""The standalone verifier, `ikrar_verify.py`: one file that shares no code with the server.

This package exists so that the file ships with Ikrar (the server offers it for download
at /verifier/ikrar_verify.py) and so that its tests can be collected; nothing imports it.
"""
