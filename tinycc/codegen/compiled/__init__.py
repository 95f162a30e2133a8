"""jinja2's code of tinycc/codegen/templates (tinycc.codegen.precompiled)."""
