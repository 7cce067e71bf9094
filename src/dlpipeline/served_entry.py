"""The code MLflow runs to load a logged model (models from code): no pickled object in the model.

A logged model holds this file, a weights file and its ``MLmodel``; loading it imports
:mod:`dlpipeline.served`, so the project must be installed where the model is loaded.
"""

import mlflow

from dlpipeline.served import ServedNetwork

mlflow.models.set_model(ServedNetwork())
