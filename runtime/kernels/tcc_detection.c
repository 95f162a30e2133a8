/* tinycc runtime: DETECTION_POSTPROCESS (TFLite_Detection_PostProcess), float32.
 *
 * Semantics (TFLite Micro detection_postprocess.cc; see tinycc/ops/detection_postprocess.py):
 * boxes decoded from centre-size encodings and anchors in double, rounded to float; one
 * greedy non-max suppression per score column over the boxes scoring >= the threshold,
 * visited in decreasing score order (a stable sort: ties keep the lower box first), dropping
 * later boxes whose IoU with a selected one exceeds the IoU threshold. The fast variant runs
 * it once on each box's best class score; the regular variant once per class, merging the
 * selections into a running list sorted stably by decreasing score and cut to max_detections.
 * With K classes per detection (fast variant), a selected box fills K rows, its best classes
 * first (TFLite's layout; num counts boxes). Only boxes some class scores at or above the
 * threshold are decoded.
 */
#include "tcc_detection.h"

#include <math.h>

typedef struct {
    float *decoded, *cand_scores, *box_scores, *list_scores, *list_scores2;
    int32_t *cand_index, *order, *tmp, *selected, *best_class, *list_index, *list_index2;
    uint8_t *active;
} det_scratch;

/* The scratch layout (its size: DETECTION_POSTPROCESS.scratch_bytes): the regular variant's
 * running lists hold L = max_detections + min(N, detections_per_class) entries (none in the
 * fast variant); a sort orders up to max(N, L) entries. */
static det_scratch layout(const tcc_detection_params *p, void *scratch)
{
    const int32_t n = p->num_boxes;
    const int32_t per_class = p->detections_per_class < n ? p->detections_per_class : n;
    const int32_t l = p->regular_nms ? p->max_detections + per_class : 0;
    const int32_t sorted = l > n ? l : n;
    det_scratch s;
    float *f = (float *)scratch;
    s.decoded = f;
    s.cand_scores = s.decoded + 4 * n;
    s.box_scores = s.cand_scores + n;
    s.list_scores = s.box_scores + n;
    s.list_scores2 = s.list_scores + l;
    int32_t *i = (int32_t *)(s.list_scores2 + l);
    s.cand_index = i;
    s.order = s.cand_index + n;
    s.tmp = s.order + sorted;
    s.selected = s.tmp + sorted;
    s.best_class = s.selected + n;
    s.list_index = s.best_class + n * p->classes_per_detection;
    s.list_index2 = s.list_index + l;
    s.active = (uint8_t *)(s.list_index2 + l);
    return s;
}

/* order[0..n) = the positions 0..n-1 sorted by decreasing key, stably (bottom-up merge sort). */
static void sort_decreasing(const float *key, int32_t *order, int32_t *tmp, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        order[i] = i;
    }
    for (int32_t width = 1; width < n; width *= 2) {
        for (int32_t lo = 0; lo < n; lo += 2 * width) {
            const int32_t mid = lo + width < n ? lo + width : n;
            const int32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int32_t a = lo, b = mid;
            for (int32_t k = lo; k < hi; ++k) {
                if (a >= mid || (b < hi && key[order[b]] > key[order[a]])) {
                    tmp[k] = order[b++];
                } else {
                    tmp[k] = order[a++];
                }
            }
        }
        for (int32_t k = 0; k < n; ++k) {
            order[k] = tmp[k];
        }
    }
}

static void decode(const tcc_detection_params *p, const float *enc, const float *anchor, float *box)
{
    const float ycenter = (float)((double)enc[0] / (double)p->y_scale * (double)anchor[2] + (double)anchor[0]);
    const float xcenter = (float)((double)enc[1] / (double)p->x_scale * (double)anchor[3] + (double)anchor[1]);
    const float half_h = (float)(0.5 * exp((double)enc[2] / (double)p->h_scale) * (double)anchor[2]);
    const float half_w = (float)(0.5 * exp((double)enc[3] / (double)p->w_scale) * (double)anchor[3]);
    box[0] = ycenter - half_h;
    box[1] = xcenter - half_w;
    box[2] = ycenter + half_h;
    box[3] = xcenter + half_w;
}

static float iou(const float *a, const float *b)
{
    const float area_a = (a[2] - a[0]) * (a[3] - a[1]);
    const float area_b = (b[2] - b[0]) * (b[3] - b[1]);
    if (area_a <= 0.0f || area_b <= 0.0f) {
        return 0.0f;
    }
    const float h = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    const float w = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    const float inter = (h > 0.0f ? h : 0.0f) * (w > 0.0f ? w : 0.0f);
    return inter / (area_a + area_b - inter);
}

/* Non-max suppression of one score per box: the selected boxes into s->selected, their count. */
static int32_t nms(const tcc_detection_params *p, const det_scratch *s, const float *score, int32_t limit)
{
    int32_t kept = 0;
    for (int32_t i = 0; i < p->num_boxes; ++i) {
        if (score[i] >= p->nms_score_threshold) {
            s->cand_scores[kept] = score[i];
            s->cand_index[kept] = i;
            ++kept;
        }
    }
    sort_decreasing(s->cand_scores, s->order, s->tmp, kept);
    const int32_t out_size = kept < limit ? kept : limit;
    int32_t n_selected = 0, n_active = kept;
    for (int32_t i = 0; i < kept; ++i) {
        s->active[i] = 1;
    }
    for (int32_t i = 0; i < kept && n_active > 0 && n_selected < out_size; ++i) {
        if (!s->active[i]) {
            continue;
        }
        const int32_t bi = s->cand_index[s->order[i]];
        s->selected[n_selected++] = bi;
        s->active[i] = 0;
        --n_active;
        for (int32_t j = i + 1; j < kept; ++j) {
            if (s->active[j] && iou(s->decoded + 4 * bi, s->decoded + 4 * s->cand_index[s->order[j]])
                                    > p->nms_iou_threshold) {
                s->active[j] = 0;
                --n_active;
            }
        }
    }
    return n_selected;
}

static void write_row(float *boxes, float *classes, float *scores, int32_t k, const float *box, float cls,
                      float score)
{
    for (int32_t c = 0; c < 4; ++c) {
        boxes[4 * k + c] = box != 0 ? box[c] : 0.0f;
    }
    classes[k] = cls;
    scores[k] = score;
}

void tcc_detection_postprocess_f32(const tcc_detection_params *p, const float *box_encodings,
                                   const float *class_predictions, const float *anchors, float *boxes,
                                   float *classes, float *scores, float *num, void *scratch)
{
    const det_scratch s = layout(p, scratch);
    const int32_t cw = p->classes_with_bg;

    /* each box's best K classes, best first (ties: the lower class first), and best score;
     * decode the boxes that may be output */
    const int32_t k = p->classes_per_detection;
    for (int32_t row = 0; row < p->num_boxes; ++row) {
        const float *bs = class_predictions + row * cw + p->label_offset;
        int32_t *best = s.best_class + row * k;
        int32_t kept = 0;
        for (int32_t c = 0; c < p->num_classes; ++c) {
            if (kept == k && !(bs[c] > bs[best[k - 1]])) {
                continue;
            }
            int32_t at = kept < k ? kept++ : k - 1;
            while (at > 0 && bs[c] > bs[best[at - 1]]) {
                best[at] = best[at - 1];
                --at;
            }
            best[at] = c;
        }
        s.box_scores[row] = bs[best[0]];
        if (bs[best[0]] >= p->nms_score_threshold) {
            decode(p, box_encodings + row * p->box_stride, anchors + 4 * row, s.decoded + 4 * row);
        }
    }

    int32_t count = 0, rows = 0;
    if (!p->regular_nms) {
        count = nms(p, &s, s.box_scores, p->max_detections);
        for (int32_t i = 0; i < count; ++i) {
            const int32_t b = s.selected[i];
            const float *bs = class_predictions + b * cw + p->label_offset;
            for (int32_t col = 0; col < k; ++col) {
                const int32_t c = s.best_class[b * k + col];
                write_row(boxes, classes, scores, rows++, s.decoded + 4 * b, (float)c, bs[c]);
            }
        }
    } else {
        for (int32_t col = 0; col < p->num_classes; ++col) {
            for (int32_t row = 0; row < p->num_boxes; ++row) {
                s.box_scores[row] = class_predictions[row * cw + col + p->label_offset];
            }
            const int32_t n_selected = nms(p, &s, s.box_scores, p->detections_per_class);
            int32_t len = count;
            for (int32_t i = 0; i < n_selected; ++i) {
                s.list_index[len] = s.selected[i] * cw + col + p->label_offset;
                s.list_scores[len] = s.box_scores[s.selected[i]];
                ++len;
            }
            sort_decreasing(s.list_scores, s.order, s.tmp, len);
            count = len < p->max_detections ? len : p->max_detections;
            for (int32_t r = 0; r < count; ++r) {
                s.list_index2[r] = s.list_index[s.order[r]];
                s.list_scores2[r] = s.list_scores[s.order[r]];
            }
            for (int32_t r = 0; r < count; ++r) {
                s.list_index[r] = s.list_index2[r];
                s.list_scores[r] = s.list_scores2[r];
            }
        }
        for (int32_t r = 0; r < count; ++r) {
            const int32_t anchor = s.list_index[r] / cw;
            const int32_t cls = s.list_index[r] - anchor * cw - p->label_offset;
            write_row(boxes, classes, scores, rows++, s.decoded + 4 * anchor, (float)cls, s.list_scores[r]);
        }
    }
    for (int32_t r = rows; r < p->max_detections * k; ++r) {
        write_row(boxes, classes, scores, r, 0, 0.0f, 0.0f);
    }
    num[0] = (float)count;
}
