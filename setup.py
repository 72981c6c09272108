"""Build the optional native event sink; the project's metadata is in pyproject.toml.

``optional=True``: where the extension cannot be built (no compiler, an
unsupported platform), the install still succeeds and ``capture`` falls back
to the pure-Python sink.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tracer.recording._csink",
            ["tracer/recording/_csink.c"],
            extra_compile_args=["-Wall", "-Wextra", "-Werror", "-std=c11", "-O2"],
            optional=True,
        )
    ]
)
