"""What a run leaves behind: the model's schema and data profile, the model file, the plots."""

from ._card import model_card
from ._facts import families, final_model_words, run_facts
from ._html import SECTIONS as REPORT_SECTIONS
from ._html import html_report
from ._persist import (MODEL_FILE, SCHEMA_FILE, check_model_folder, folder_lock, keep_previous, model_folder, own_folder,
                       remove_leftovers, save_model, write_bytes_atomic, write_text_atomic)
from ._plots import make_plots
from ._profile import bin_shares, profile
from ._schema import schema, training_schema

__all__ = ["families", "final_model_words", "run_facts", "MODEL_FILE", "REPORT_SECTIONS", "SCHEMA_FILE", "bin_shares", "check_model_folder",
           "folder_lock", "html_report", "keep_previous", "make_plots", "model_card", "model_folder", "own_folder", "profile", "remove_leftovers",
           "save_model", "schema", "training_schema", "write_bytes_atomic", "write_text_atomic"]
