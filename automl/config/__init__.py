"""The experiment configuration: the YAML file and the flags, validated into one object.

Examples
--------
>>> from automl.config import ExperimentConfig, mask_url
>>> ExperimentConfig(data="demo:iris", n_trials=5, cv=3).cv
3
>>> mask_url("postgresql://me:s3cret@db:5432/automl")
'postgresql://me:***@db:5432/automl'
"""

from ._load import PATH_FIELDS, format_validation_error, load_config, resolve_workdir
from ._paths import (check_paths, input_file, output_file, output_folder, read_text, store_file,
                     text_encoding)
from ._model import DEFAULT_DATA, DEFAULT_SPACE, ExperimentConfig
from ._secrets import mask_url
from ._yaml import parse_yaml, yaml_problem

__all__ = ["DEFAULT_DATA", "DEFAULT_SPACE", "PATH_FIELDS", "ExperimentConfig", "check_paths",
           "format_validation_error", "input_file", "load_config", "mask_url", "output_file",
           "output_folder", "parse_yaml", "read_text", "resolve_workdir", "store_file",
           "text_encoding", "yaml_problem"]
