"""The preprocessing half of every model pipeline, fitted inside each fold with the model.

``_columns.py`` assembles the ``ColumnTransformer`` per kind of column; ``_encoders.py`` one-hot
or out-of-fold target encoding of categories; ``_text.py`` word features of free text.
"""

# ``_to_str``/``_to_float`` are named here too: models saved before this was a package refer to
# ``automl.preprocess._to_str``.
from ._columns import _to_float, _to_str  # noqa: F401
from ._columns import (DATETIME_PARTS, PREP_CHOICES, PREP_DEFAULTS, PREP_NUMBERS, DatetimeExpander,
                       build_pipeline, build_preprocessor)
from ._encoders import CategoricalEncoder
from ._text import TextFeatures

__all__ = ["DATETIME_PARTS", "PREP_CHOICES", "PREP_DEFAULTS", "PREP_NUMBERS", "CategoricalEncoder",
           "DatetimeExpander", "TextFeatures", "build_pipeline", "build_preprocessor"]
