"""``dgsql create``: from a description in plain words to a schema that builds and validates.

A model behind any OpenAI-compatible chat-completions endpoint drafts the schema
(``client``, ``prompt``: one versioned template with the DSL reference and bundled examples);
each draft is read (``reply``) and goes through the compiler's own front end, a sample build
and validate, its problems back to the model until it passes (``repair``). ``command`` is the
CLI's side (docs/create.md). The ``openai`` package is imported only when a request is sent.
"""

from dgsql.create.client import ChatClient, Endpoint, EndpointError, endpoint_from
from dgsql.create.repair import Outcome, Request, create_schema

__all__ = ["ChatClient", "Endpoint", "EndpointError", "Outcome", "Request", "create_schema", "endpoint_from"]
