"""One package per runtime, each exporting `RUNTIME` (see kfplug/runtime.py). The registry
finds them by name; nothing else imports them."""
