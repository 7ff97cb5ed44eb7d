"""Build-time inputs of ariadne-codegen: the operation base classes and the plugin.

Nothing here is imported at run time; the generated package carries its own copy
of ``base_operations.py``.
"""
