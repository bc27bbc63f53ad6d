"""`make bench` (bench/run.py). Set before any step imports boto3, Powertools or the layer, whichever
module it starts from: no real AWS, and a metrics namespace for the modules that make their Metrics at
import (a step run on its own imports the layer through bench/providers before anything else)."""

import os

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
