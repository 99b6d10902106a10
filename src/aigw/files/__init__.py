"""Files: uploads (batch input / output) and job results, on local disk under ``data_dir``."""
