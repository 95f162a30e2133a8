/* tinycc runtime: DETECTION_POSTPROCESS (the TFLite_Detection_PostProcess custom op), float32. */
#ifndef TCC_DETECTION_H
#define TCC_DETECTION_H

#include <stdint.h>

typedef struct {
    int32_t num_boxes, box_stride;          /* N anchors; floats per box encoding (>= 4) */
    int32_t num_classes, classes_with_bg, label_offset;   /* label_offset: 1 with a background column */
    int32_t max_detections, detections_per_class, regular_nms;
    int32_t classes_per_detection;          /* the fast variant's classes per box (K); 1 for regular */
    float nms_score_threshold, nms_iou_threshold;
    float y_scale, x_scale, h_scale, w_scale;
} tcc_detection_params;

/* boxes [M * K, 4] (ymin, xmin, ymax, xmax), classes [M * K], scores [M * K], num [1]; scratch of the size
 * DETECTION_POSTPROCESS's scratch_bytes gives (4-byte aligned). */
void tcc_detection_postprocess_f32(const tcc_detection_params *p, const float *box_encodings,
                                   const float *class_predictions, const float *anchors, float *boxes,
                                   float *classes, float *scores, float *num, void *scratch);

#endif /* TCC_DETECTION_H */
