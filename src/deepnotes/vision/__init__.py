"""deepnotes.vision: object detection essentials (inventory D1-D4).

Boxes and IoU / GIoU (`boxes`), NMS and Soft-NMS (`nms`), anchors, box coding, matching and hard
negative mining (`anchors`), COCO / VOC mAP (`evaluation`), the Gaussian image pyramid
(`pyramid`) and a small single-shot detector (`detector`, trained by `train`).  Box functions take
and return NumPy arrays of xyxy boxes in continuous coordinates; see `boxes` for the conventions.
"""
from .anchors import AnchorGenerator, BoxCoder, SSDAnchorGenerator, hard_negative_mining, match_anchors
from .boxes import (
    box_area, box_convert, box_iou, clip_boxes, clip_boxes_to_image, generalized_box_iou,
    generalized_box_iou_loss, remove_small_boxes,
)
from .evaluation import mean_average_precision, voc_ap, voc_mean_average_precision
from .nms import batched_nms, nms, soft_nms

__all__ = [
    "AnchorGenerator", "BoxCoder", "SSDAnchorGenerator", "hard_negative_mining", "match_anchors",
    "box_area", "box_convert", "box_iou", "clip_boxes", "clip_boxes_to_image", "generalized_box_iou",
    "generalized_box_iou_loss", "remove_small_boxes",
    "mean_average_precision", "voc_ap", "voc_mean_average_precision",
    "batched_nms", "nms", "soft_nms",
]
