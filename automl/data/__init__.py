"""Load a table, check it, and decide the task: everything before the split.

``read_table`` reads files and demos, ``prepare`` turns a frame into a :class:`Dataset` (target,
task, column kinds, dropped columns and why), ``align_test_frame`` checks a separate test file.
"""

from ._align import align_test_frame, check_numeric
from ._dataset import LARGEST, Dataset, fingerprint, rows_with_target
from ._prepare import column_types, drop_useless_columns, infer_task, parse_times, plain_value, prepare
from ._read import DEMOS, read_table
from ._rows import ROWS_FILE, RowPrints, group_hashes, kinds_of, label_text, new_salt, read_rows_file, row_hashes, seen, to_bytes

__all__ = ["DEMOS", "LARGEST", "ROWS_FILE", "RowPrints", "group_hashes", "kinds_of", "label_text", "new_salt", "read_rows_file",
           "row_hashes", "seen", "to_bytes", "Dataset", "align_test_frame", "check_numeric", "column_types",
           "drop_useless_columns", "fingerprint", "infer_task", "parse_times", "plain_value", "prepare",
           "read_table",
           "rows_with_target"]
