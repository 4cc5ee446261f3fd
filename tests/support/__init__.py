"""What the tests share: a real Celery worker process (`workers`), the audio encoder that
`bench/` uses too (`audio`) and a loopback HTTP server that records what it receives
(`servers`).
"""
