"""Importing this module runs ``initspec.mmengine.install()``: for mmengine configs' ``custom_imports``.

custom_imports = dict(imports=["initspec.mmengine_install"], allow_failed_imports=False)
"""

from initspec.mmengine import install

install()
