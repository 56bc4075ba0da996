from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.io import JsonIOManager, KerasModelIOManager, ParquetIOManager
from ztdl_pipeline.resources.pretrained import PretrainedModels
from ztdl_pipeline.resources.storage import Storage

__all__ = ["DatasetSource", "JsonIOManager", "KerasModelIOManager", "ParquetIOManager", "PretrainedModels",
           "Storage", "TensorFlowCompute"]
