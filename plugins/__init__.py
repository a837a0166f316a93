"""The built-in plugins, installed as the ``augment_plugins`` package.

Each module here is a plugin, declared in the ``augment`` entry-point group of
``pyproject.toml`` exactly as a third-party package would declare its own. Read
them as examples: a format (``sharegpt``, ``alpaca``, ``openai_messages``,
``script``) or an augmenter (``typos``) is a class plus a ``register_*`` hook.
"""
