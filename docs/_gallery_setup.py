"""Run before every gallery example: wide pandas output, so printed tables are not cut off."""


def reset_pandas(gallery_conf, fname):
    import pandas as pd

    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_colwidth", None)
