"""The Open Inference Protocol (KServe v2, Triton's REST protocol) with Triton's binary tensor data extension.

``codec`` and ``datatypes`` turn request bodies into tensors and outputs into response bodies (no HTTP
framework); ``compression`` handles gzip/deflate bodies; ``models`` describes the three models and runs
them on the service's micro-batched ``Inference``; ``routes`` translates HTTP to those and back.
"""
