"""What automl agrees to load: model files are code until proven otherwise.

Two rules, one per way a model reaches automl:

- **MLflow models** are skops files. skops builds objects from the names written in the file
  (a class to instantiate, a function to call with arguments from the file), and MLflow tells it
  which names to trust from the model's own ``MLmodel`` file, which whoever wrote the store
  controls. automl ignores that list: every node of the file is read first, and each must be an
  exact ``(loader, type)`` pair that automl's own models are made of (:data:`ALLOWED`, derived
  by saving every family), else the model is refused. A trusted package is not enough: any
  function of it could be named as a constructor.
- **Local files** (``model.joblib``) are pickles, which run code when loaded. automl signs each
  one it writes (an HMAC-SHA256 of the file with a key only this user can read) and loads a
  pickle only from the bytes whose signature it checked.

``--trust-model`` skips both for a file the user vouches for.
"""

from ._sign import check_key, key_path, load_signed_pickle, sign
from ._skops import load_skops_bytes, load_skops_model, named_types, read_schema, refused_types
from ._types import ALLOWED

__all__ = ["ALLOWED", "check_key", "key_path", "load_signed_pickle", "load_skops_bytes", "load_skops_model",
           "named_types", "read_schema", "refused_types", "sign"]
