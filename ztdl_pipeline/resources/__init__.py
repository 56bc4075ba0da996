from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.io import JsonIOManager, KerasModelIOManager, ParquetIOManager
from ztdl_pipeline.resources.pretrained import PretrainedModels
from ztdl_pipeline.resources.storage import Storage
from ztdl_pipeline.resources.tracking import ExperimentTracking

__all__ = ["DatasetSource", "ExperimentTracking", "JsonIOManager", "KerasModelIOManager", "ParquetIOManager",
           "PretrainedModels", "Storage", "TensorFlowCompute"]
