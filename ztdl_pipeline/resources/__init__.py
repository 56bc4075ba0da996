from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.io import JsonIOManager, KerasModelIOManager, ParquetIOManager

__all__ = ["DatasetSource", "JsonIOManager", "KerasModelIOManager", "ParquetIOManager", "TensorFlowCompute"]
