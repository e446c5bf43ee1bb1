"""Give a float TFLite image model the input-normalisation metadata MediaPipe Tasks needs to run it.

MediaPipe's Tasks graphs turn an image into a float input tensor with the ``NormalizationOptions`` (mean, std) found in
the model's TFLite metadata, and refuse a float model that has none ("Input tensor has type float32: it requires
specifying NormalizationOptions metadata"). The pose models of the mediapipe==0.10.21 wheel (the only offline source,
see ``landmark_models_signbind.py``) were made for the legacy graphs, which set the input range in the graph instead,
so they carry no metadata. Adding it is what Google's own ``metadata_writers`` do, but those need a compiled module
missing from the mediapipe 1.x wheel; the flatbuffer schemas they write with do ship with it (``mediapipe.tasks.metadata``),
so this module writes the same minimal metadata with them: one RGB image input, its mean and std, an empty entry per
output. The model's bytes are otherwise unchanged, and the result lives in memory only (the vendored files stay exactly
the wheel's, checksums and all).
"""

import numpy as np

# Where TFLite (and MediaPipe) look for metadata: a model-level metadata entry of this name pointing to a buffer.
METADATA_NAME = "TFLITE_METADATA"
_METADATA_IDENTIFIER = b"M001"  # file identifier of the metadata flatbuffer (metadata_schema.fbs)
_MODEL_IDENTIFIER = b"TFL3"  # file identifier of a TFLite model flatbuffer (schema.fbs)
# The oldest metadata parser that reads image properties and normalisation options (metadata_schema.fbs: 1.0.0).
_MIN_PARSER_VERSION = "1.0.0"


def with_image_normalization(model: bytes, *, mean: float, std: float) -> bytes:
    """``model`` (a TFLite flatbuffer with one image input) with metadata saying its input is ``(pixel - mean) / std``.

    MediaPipe feeds such a model RGB pixels in 0..255 normalised that way: ``mean=127.5, std=127.5`` gives [-1, 1],
    ``mean=0, std=255`` gives [0, 1]. Any metadata the model already had is replaced.
    """
    from mediapipe.tasks.metadata import metadata_schema_py_generated as metadata_fb
    from mediapipe.tasks.metadata import schema_py_generated as model_fb

    tflite = model_fb.ModelT.InitFromPackedBuf(bytearray(model), 0)

    normalization = metadata_fb.NormalizationOptionsT()
    normalization.mean, normalization.std = [float(mean)], [float(std)]
    process_unit = metadata_fb.ProcessUnitT()
    process_unit.optionsType = metadata_fb.ProcessUnitOptions.NormalizationOptions
    process_unit.options = normalization
    image_properties = metadata_fb.ImagePropertiesT()
    image_properties.colorSpace = metadata_fb.ColorSpaceType.RGB
    content = metadata_fb.ContentT()
    content.contentPropertiesType = metadata_fb.ContentProperties.ImageProperties
    content.contentProperties = image_properties
    image = metadata_fb.TensorMetadataT()
    image.name = "image"
    image.content = content
    image.processUnits = [process_unit]

    subgraph = metadata_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = [metadata_fb.TensorMetadataT() for _ in tflite.subgraphs[0].outputs]
    metadata = metadata_fb.ModelMetadataT()
    metadata.name = "signbind-hf normalisation"
    metadata.subgraphMetadata = [subgraph]
    metadata.minParserVersion = _MIN_PARSER_VERSION
    metadata_bytes = _finish(metadata, _METADATA_IDENTIFIER)

    entries = [entry for entry in (tflite.metadata or []) if _name(entry) != METADATA_NAME]
    buffer = model_fb.BufferT()
    buffer.data = np.frombuffer(metadata_bytes, dtype=np.uint8)
    tflite.buffers.append(buffer)
    entry = model_fb.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(tflite.buffers) - 1
    tflite.metadata = [*entries, entry]
    return _finish(tflite, _MODEL_IDENTIFIER)


def _finish(table, identifier: bytes) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(table.Pack(builder), identifier)
    return bytes(builder.Output())


def _name(entry) -> str:
    return entry.name.decode() if isinstance(entry.name, bytes) else str(entry.name)
