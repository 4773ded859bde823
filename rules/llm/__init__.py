"""Values from a language model, made deterministic by a fixed, cached pool.

- ``rule``: the ``openai_generated`` rule class and its pool cache.
- ``client``: the OpenAI-compatible endpoint (and ``synthbeam llm-check``'s probe).
"""
