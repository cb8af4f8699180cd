/* gst-ds-stream
 * Copyright (C) 2026 gst-ds-stream developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 *
 * You should have received a copy of the GNU Library General Public
 * License along with this library; if not, write to the
 * Free Software Foundation, Inc., 51 Franklin St, Fifth Floor,
 * Boston, MA 02110-1301, USA.
 */


/* dsdepay's pictures: Pixels, DeltaPixels and MotionDeltaPixels frames
 * to the video pad,
 * CompressedPixels frames to the image pad, the reference picture of the
 * next delta, the buffer pool of decoded pictures, and keyframe requests
 * while deltas cannot be decoded. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gst/pbutils/codec-utils.h>

#include "dscompress.h"
#include "dsmotion.h"
#include "dsrle.h"

#include "gstdsdepay-private.h"

/* Keyframe requests */

void
gst_ds_depay_send_keyframe_request (GstDsDepay * self)
{
  GST_OBJECT_LOCK (self);
  self->stat_keyframe_requests++;
  GST_OBJECT_UNLOCK (self);

  GST_DEBUG_OBJECT (self, "requesting a keyframe upstream");
  gst_pad_push_event (self->sinkpad,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0));
}

static gboolean gst_ds_depay_keyframe_request_timeout (GstClock * clock,
    GstClockTime time, GstClockID id, gpointer user_data);

/* with kf_lock. The timer runs on the system clock, not on the pipeline
 * clock, which may stand still (an audio sink's clock in PAUSED) or be
 * missing; the system clock's one thread serves every timer, so a request
 * costs no thread. */
static void
gst_ds_depay_schedule_keyframe_request (GstDsDepay * self)
{
  GstClock *clock = gst_system_clock_obtain ();

  self->kf_clock_id = gst_clock_new_single_shot_id (clock,
      gst_clock_get_time (clock) + self->kf_interval);
  gst_clock_id_wait_async (self->kf_clock_id,
      gst_ds_depay_keyframe_request_timeout, gst_object_ref (self),
      (GDestroyNotify) gst_object_unref);
  gst_object_unref (clock);
}

static gboolean
gst_ds_depay_keyframe_request_timeout (GstClock * clock, GstClockTime time,
    GstClockID id, gpointer user_data)
{
  GstDsDepay *self = GST_DS_DEPAY (user_data);
  gboolean send = FALSE;

  g_mutex_lock (&self->kf_lock);
  /* ignore a timer that was cancelled while it fired */
  if (self->kf_clock_id == id) {
    gst_clock_id_unref (self->kf_clock_id);
    self->kf_clock_id = NULL;
    if (self->waiting_for_keyframe) {
      self->kf_interval = MIN (self->kf_interval * 2,
          KEYFRAME_REQUEST_MAX_INTERVAL);
      gst_ds_depay_schedule_keyframe_request (self);
      send = TRUE;
    }
  }
  g_mutex_unlock (&self->kf_lock);

  if (send)
    gst_ds_depay_send_keyframe_request (self);

  return TRUE;
}

/* with kf_lock */
static void
gst_ds_depay_cancel_keyframe_request (GstDsDepay * self)
{
  if (self->kf_clock_id) {
    gst_clock_id_unschedule (self->kf_clock_id);
    gst_clock_id_unref (self->kf_clock_id);
    self->kf_clock_id = NULL;
  }
  self->kf_interval = KEYFRAME_REQUEST_FIRST_INTERVAL;
}

static void
gst_ds_depay_start_waiting_for_keyframe (GstDsDepay * self,
    const gchar * reason)
{
  gboolean request, send = FALSE;

  GST_OBJECT_LOCK (self);
  request = self->request_keyframe;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->kf_lock);
  if (!self->waiting_for_keyframe) {
    GST_INFO_OBJECT (self, "%s: dropping pictures until the next keyframe",
        reason);
    self->waiting_for_keyframe = TRUE;
    if (request && self->kf_clock_id == NULL) {
      self->kf_interval = KEYFRAME_REQUEST_FIRST_INTERVAL;
      gst_ds_depay_schedule_keyframe_request (self);
      send = TRUE;
    }
  }
  g_mutex_unlock (&self->kf_lock);

  if (send)
    gst_ds_depay_send_keyframe_request (self);
}

static void
gst_ds_depay_stop_waiting_for_keyframe (GstDsDepay * self)
{
  g_mutex_lock (&self->kf_lock);
  if (self->waiting_for_keyframe)
    GST_INFO_OBJECT (self, "keyframe received, decoding again");
  self->waiting_for_keyframe = FALSE;
  gst_ds_depay_cancel_keyframe_request (self);
  g_mutex_unlock (&self->kf_lock);
}

static gboolean
gst_ds_depay_is_waiting_for_keyframe (GstDsDepay * self)
{
  gboolean waiting;

  g_mutex_lock (&self->kf_lock);
  waiting = self->waiting_for_keyframe;
  g_mutex_unlock (&self->kf_lock);

  return waiting;
}


/* The stream starts again: no keyframe is awaited */
void
gst_ds_depay_reset_keyframe_requests (GstDsDepay * self)
{
  g_mutex_lock (&self->kf_lock);
  self->waiting_for_keyframe = FALSE;
  gst_ds_depay_cancel_keyframe_request (self);
  g_mutex_unlock (&self->kf_lock);
}

/* The reference picture */

/* @memory (transfer none, nullable) */
static void
gst_ds_depay_set_reference (GstDsDepay * self, GstMemory * memory,
    guint width, guint height)
{
  if (memory) {
    gst_memory_ref (memory);
    gst_memory_lock (memory, GST_LOCK_FLAG_EXCLUSIVE);
  }
  if (self->reference) {
    gst_memory_unlock (self->reference, GST_LOCK_FLAG_EXCLUSIVE);
    gst_memory_unref (self->reference);
  }
  self->reference = memory;
  self->ref_width = width;
  self->ref_height = height;
}

void
gst_ds_depay_reset_picture (GstDsDepay * self)
{
  gst_ds_depay_set_reference (self, NULL, 0, 0);
  ds_encoded_video_state_lose (&self->encoded);
}

static void
gst_ds_depay_clear_pool (GstBufferPool ** pool)
{
  if (*pool) {
    gst_buffer_pool_set_active (*pool, FALSE);
    gst_clear_object (pool);
  }
}

/* The buffers of decoded pictures, at start and stop */
void
gst_ds_depay_release_pool (GstDsDepay * self)
{
  gst_ds_depay_clear_pool (&self->pool);
  gst_clear_caps (&self->pool_caps);
  gst_ds_depay_clear_pool (&self->tight_pool);
  self->tight_size = 0;
  self->pool_unqueried = FALSE;
  g_clear_pointer (&self->scratch, g_free);
  self->scratch_size = 0;
}

/* Everything, when the element goes */
void
gst_ds_depay_free_pictures (GstDsDepay * self)
{
  gst_ds_depay_reset_picture (self);
  gst_ds_depay_release_pool (self);
}

/* Output */

static GstCaps *
gst_ds_depay_video_caps (GstDsDepay * self, guint width, guint height,
    guint fps_n, guint fps_d)
{
  return gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, "RGBA",
      "width", G_TYPE_INT, (gint) width,
      "height", G_TYPE_INT, (gint) height,
      "framerate", GST_TYPE_FRACTION, (gint) fps_n, (gint) fps_d, NULL);
}

static GstCaps *
gst_ds_depay_image_caps (GstDsDepay * self, guint is_webp, guint unused1,
    guint unused2, guint unused3)
{
  return gst_caps_new_empty_simple (is_webp ? "image/webp" : "image/png");
}

/* Allocation */

/* Configures @pool for pictures of @caps; a pool that changes what it
 * cannot take (GstVideoBufferPool adds its alignment) is taken when what
 * it made of it still fits */
static gboolean
gst_ds_depay_configure_pool (GstBufferPool * pool, GstCaps * caps,
    guint size, guint min, guint max, GstAllocator * allocator,
    const GstAllocationParams * params, gboolean video_meta)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);

  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  gst_buffer_pool_config_set_allocator (config, allocator, params);
  if (video_meta &&
      gst_buffer_pool_has_option (pool, GST_BUFFER_POOL_OPTION_VIDEO_META))
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (gst_buffer_pool_set_config (pool, config))
    return TRUE;

  config = gst_buffer_pool_get_config (pool);
  if (!gst_buffer_pool_config_validate_params (config, caps, size, min, max)) {
    gst_structure_free (config);
    return FALSE;
  }
  return gst_buffer_pool_set_config (pool, config);
}

/* FALSE while a recording's pads are not all known (see
 * gst_ds_depay_check_no_more_pads()) */
static gboolean
gst_ds_depay_may_query_allocation (GstDsDepay * self)
{
  return !self->parsed_input || self->no_more_pads;
}

/* The pool of decoded pictures, as GstVideoDecoder decides it: asks
 * downstream with an ALLOCATION query on the video pad and takes the
 * pool it offers when it also reads GstVideoMeta (so that its rows may
 * be padded), else makes a GstVideoBufferPool with downstream's
 * allocator. */
static gboolean
gst_ds_depay_decide_allocation (GstDsDepay * self, GstPad * pad, GstCaps * caps)
{
  GstQuery *query = gst_query_new_allocation (caps, TRUE);
  GstBufferPool *pool = NULL;
  GstAllocator *allocator = NULL;
  GstAllocationParams params;
  GstVideoInfo info;
  guint size = 0, min = 0, max = 0;
  gboolean video_meta;

  if (!gst_video_info_from_caps (&info, caps))
    goto bad_caps;

  /* what downstream asked for by a RECONFIGURE is done now */
  gst_pad_check_reconfigure (pad);
  if (!gst_ds_depay_may_query_allocation (self)) {
    /* a recording whose pads are not all known yet: decodebin holds the
     * pads it has not shown, and a query would wait there for ever. Our
     * own pool until no-more-pads, then downstream is asked. */
    GST_DEBUG_OBJECT (pad, "pads not all known yet: no ALLOCATION query");
    self->pool_unqueried = TRUE;
  } else if (!gst_pad_peer_query (pad, query)) {
    self->pool_unqueried = FALSE;
    GST_DEBUG_OBJECT (pad, "downstream did not answer the ALLOCATION query");
  } else {
    self->pool_unqueried = FALSE;
  }

  video_meta = gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE,
      NULL);
  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_parse_nth_allocation_param (query, 0, &allocator, &params);
  else
    gst_allocation_params_init (&params);
  if (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, &max);
  gst_query_unref (query);

  if (pool && !video_meta) {
    GST_DEBUG_OBJECT (pad, "downstream offers a pool but does not read "
        "GstVideoMeta: using our own");
    gst_clear_object (&pool);
  }
  if (pool && !gst_ds_depay_configure_pool (pool, caps, MAX (size, info.size),
          min, max, allocator, &params, TRUE)) {
    GST_INFO_OBJECT (pad, "downstream's pool %" GST_PTR_FORMAT " refused "
        "the configuration: using our own", pool);
    gst_clear_object (&pool);
  }
  if (pool == NULL) {
    pool = gst_video_buffer_pool_new ();
    if (!gst_ds_depay_configure_pool (pool, caps, info.size, min, 0,
            allocator, &params, video_meta)) {
      gst_clear_object (&pool);
    }
  }
  if (allocator)
    gst_object_unref (allocator);
  if (pool == NULL || !gst_buffer_pool_set_active (pool, TRUE))
    goto no_pool;

  GST_DEBUG_OBJECT (pad, "pictures from %" GST_PTR_FORMAT " for %"
      GST_PTR_FORMAT, pool, caps);
  gst_ds_depay_clear_pool (&self->pool);
  self->pool = pool;
  self->pool_info = info;
  gst_caps_replace (&self->pool_caps, caps);
  return TRUE;

  /* ERRORS */
bad_caps:
  {
    GST_WARNING_OBJECT (pad, "invalid caps %" GST_PTR_FORMAT, caps);
    gst_query_unref (query);
    return FALSE;
  }
no_pool:
  {
    GST_WARNING_OBJECT (pad, "could not set up a pool for %" GST_PTR_FORMAT,
        caps);
    gst_clear_object (&pool);
    return FALSE;
  }
}

/* Whether the pool decided for @pool_caps serves pictures of @caps: the
 * same format and size (a new frame rate is no reason to ask again) */
static gboolean
gst_ds_depay_pool_fits (GstCaps * pool_caps, GstCaps * caps)
{
  GstVideoInfo a, b;

  if (pool_caps == NULL || !gst_video_info_from_caps (&a, pool_caps) ||
      !gst_video_info_from_caps (&b, caps))
    return FALSE;
  return GST_VIDEO_INFO_FORMAT (&a) == GST_VIDEO_INFO_FORMAT (&b) &&
      GST_VIDEO_INFO_WIDTH (&a) == GST_VIDEO_INFO_WIDTH (&b) &&
      GST_VIDEO_INFO_HEIGHT (&a) == GST_VIDEO_INFO_HEIGHT (&b);
}

/* Decides the pool when the video pad gets pictures of a new size: before
 * the first picture goes out with them, as a decoder negotiates. The caps
 * are those dsdepay made last, not the pad's: while a recording's pads
 * are discovered, new caps wait behind the pictures held before them,
 * and a picture of the new size needs a buffer of that size. A query
 * behind pictures could wait for a sink that waits for its preroll while
 * the other sinks wait for the sound and signals behind the query: in a
 * live pipeline `d.video ! queue ! decodebin ! … d.audio ! queue !
 * decodebin ! …`, the video sink holds its preroll picture until the
 * audio decodebin has seen sound. So a RECONFIGURE from downstream (if
 * @reconfigure) is answered only on a recording once all its pads are
 * known; on a live channel, where sound or signals may start at any time,
 * the pool stays until the picture size changes. */
static gboolean
gst_ds_depay_ensure_pool (GstDsDepay * self, GstPad * pad, gboolean reconfigure)
{
  GstDsDepayStream *stream = &self->streams[STREAM_VIDEO];
  GstCaps *caps;
  gboolean ok = TRUE;

  if (!stream->have_caps || stream->caps == NULL)
    return FALSE;
  caps = gst_caps_ref (stream->caps);
  if (reconfigure && !(self->parsed_input && self->no_more_pads)) {
    if (gst_pad_check_reconfigure (pad))
      GST_DEBUG_OBJECT (pad, "RECONFIGURE on a live channel: the pool stays");
    reconfigure = FALSE;
  }
  if (self->pool == NULL || !gst_ds_depay_pool_fits (self->pool_caps, caps) ||
      (reconfigure && gst_pad_needs_reconfigure (pad)) ||
      (self->pool_unqueried && gst_ds_depay_may_query_allocation (self)))
    ok = gst_ds_depay_decide_allocation (self, pad, caps);
  gst_caps_unref (caps);

  return ok;
}

/* A buffer of the pool for a picture of @width x @height, once the video
 * pad has the caps and the pool is decided for them */
static GstFlowReturn
gst_ds_depay_acquire_output (GstDsDepay * self, guint width, guint height,
    GstBuffer ** picture)
{
  GstPad *pad;

  pad = gst_ds_depay_prepare_pad (self, STREAM_VIDEO, width, height,
      self->fps_n, self->fps_d, gst_ds_depay_video_caps);
  if (!gst_ds_depay_ensure_pool (self, pad, TRUE))
    return GST_FLOW_NOT_NEGOTIATED;

  return gst_buffer_pool_acquire_buffer (self->pool, picture, NULL);
}

/* Pictures are opaque (docs/protocol.md §3): the alpha byte of the wire is
 * not transparency (a screen's padding byte, say), so every picture leaves
 * with alpha 255. An opaque picture, what dspay sends, is not touched; a
 * writable one is fixed in place, any other copied first. The reference
 * of the next delta gets the fixed alpha too, which only changes the alpha
 * the next delta decodes to: it is set again. */
static GstBuffer *
gst_ds_depay_make_opaque (GstDsDepay * self, GstBuffer * picture)
{
  GstMapInfo map;
  gboolean opaque = TRUE;
  gsize i;

  if (!gst_buffer_map (picture, &map, GST_MAP_READ))
    return picture;
  for (i = 3; i < map.size; i += 4) {
    if (map.data[i] != 0xff) {
      opaque = FALSE;
      break;
    }
  }
  gst_buffer_unmap (picture, &map);
  if (opaque)
    return picture;

  if (!gst_buffer_is_writable (picture)
      || !gst_buffer_is_all_memory_writable (picture)) {
    GstBuffer *copy = gst_buffer_copy_deep (picture);

    gst_buffer_unref (picture);
    picture = copy;
  }
  if (!gst_buffer_map (picture, &map, GST_MAP_WRITE))
    return picture;
  for (; i < map.size; i += 4)
    map.data[i] = 0xff;
  gst_buffer_unmap (picture, &map);

  GST_LOG_OBJECT (self, "picture made opaque");
  return picture;
}

static gboolean
gst_ds_depay_has_video_meta (GstBuffer * picture, guint width, guint height)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (picture);

  return meta != NULL && meta->format == GST_VIDEO_FORMAT_RGBA &&
      meta->width == width && meta->height == height;
}

/* Pushes a tight picture: a Pixels payload, or a delta decoded into a
 * buffer of the pool whose rows are tight. Its memory becomes the next
 * delta's reference. */
static GstFlowReturn
gst_ds_depay_push_picture (GstDsDepay * self, GstBuffer * picture,
    guint width, guint height, GstClockTime pts)
{
  GstClockTime duration = gst_ds_depay_picture_duration (self);
  GstMemory *reference;
  GstPad *pad;

  pad = gst_ds_depay_prepare_pad (self, STREAM_VIDEO, width, height,
      self->fps_n, self->fps_d, gst_ds_depay_video_caps);
  /* a Pixels frame needs no pool, but new caps are the time to decide it
   * for the deltas that follow; a failure shows at the first delta */
  gst_ds_depay_ensure_pool (self, pad, FALSE);

  GST_OBJECT_LOCK (self);
  self->video_width = width;
  self->video_height = height;
  GST_OBJECT_UNLOCK (self);

  picture = gst_ds_depay_make_opaque (self, picture);
  picture = gst_buffer_make_writable (picture);
  /* a buffer of the pool may carry its GstVideoMeta already */
  if (!gst_ds_depay_has_video_meta (picture, width, height))
    gst_buffer_add_video_meta (picture, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_FORMAT_RGBA, width, height);

  /* The next delta's reference: the picture's memory, no copy */
  reference = gst_buffer_get_all_memory (picture);
  gst_ds_depay_set_reference (self, reference, width, height);
  if (reference)
    gst_memory_unref (reference);

  return gst_ds_depay_push (self, STREAM_VIDEO, picture, pts, duration);
}

GstFlowReturn
gst_ds_depay_handle_pixels (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime pts)
{
  gst_ds_depay_stop_waiting_for_keyframe (self);

  return gst_ds_depay_push_picture (self, payload, header->width,
      header->height, pts);
}

/* FLAG_COMPRESSED: the payload is exactly one zstd frame of the normal
 * payload (the run-length code, after the move table for a
 * MotionDeltaPixels), whose size may not exceed @limit; decompressed into
 * the element's scratch buffer by the protocol library */
static gboolean
gst_ds_depay_decompress (GstDsDepay * self, const guint8 * data, gsize len,
    gsize limit, const guint8 ** out, gsize * out_len, GError ** error)
{
  if (!ds_payload_decompress (data, len, limit, &self->scratch,
          &self->scratch_size, out_len, error))
    return FALSE;
  *out = self->scratch;
  return TRUE;
}

/* The pool was decided for the caps the video pad has, and they are those
 * of a picture of @width x @height */
static gboolean
gst_ds_depay_has_pool_for (GstDsDepay * self, guint width, guint height)
{
  GstDsDepayStream *stream = &self->streams[STREAM_VIDEO];

  return self->pool != NULL && stream->pad != NULL && stream->have_caps &&
      !stream->need_stream_start && !stream->need_segment &&
      stream->caps_key[0] == width && stream->caps_key[1] == height &&
      stream->caps_key[2] == (guint) self->fps_n &&
      stream->caps_key[3] == (guint) self->fps_d;
}

/* The rows of @picture are tight and in one memory: a delta decodes
 * straight into it */
static gboolean
gst_ds_depay_is_tight (GstBuffer * picture, guint width, gsize size)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (picture);

  if (gst_buffer_n_memory (picture) != 1 ||
      gst_buffer_get_size (picture) != size)
    return FALSE;
  return meta == NULL || (meta->offset[0] == 0 &&
      meta->stride[0] == (gint) width * 4);
}

/* A tight picture of dsdepay's own, to decode into when the pool's rows
 * are padded */
static GstBuffer *
gst_ds_depay_acquire_tight (GstDsDepay * self, gsize size)
{
  GstBuffer *buffer = NULL;

  if (self->tight_pool && self->tight_size != size)
    gst_ds_depay_clear_pool (&self->tight_pool);

  if (self->tight_pool == NULL) {
    GstStructure *config;

    self->tight_pool = gst_buffer_pool_new ();
    config = gst_buffer_pool_get_config (self->tight_pool);
    gst_buffer_pool_config_set_params (config, NULL, size, 2, 0);
    if (!gst_buffer_pool_set_config (self->tight_pool, config) ||
        !gst_buffer_pool_set_active (self->tight_pool, TRUE)) {
      gst_clear_object (&self->tight_pool);
      return NULL;
    }
    self->tight_size = size;
  }

  if (gst_buffer_pool_acquire_buffer (self->tight_pool, &buffer,
          NULL) != GST_FLOW_OK)
    return NULL;
  return buffer;
}

/* Pushes @picture, a buffer of the pool with padded rows, after copying
 * the tight picture @decoded into it row by row; @decoded's memory
 * becomes the next delta's reference */
static GstFlowReturn
gst_ds_depay_push_copied_picture (GstDsDepay * self, GstBuffer * decoded,
    GstBuffer * picture, guint width, guint height, GstClockTime pts)
{
  GstVideoFrame src, dst;
  GstMemory *reference;
  gboolean ok = FALSE;

  GST_OBJECT_LOCK (self);
  self->video_width = width;
  self->video_height = height;
  GST_OBJECT_UNLOCK (self);

  decoded = gst_ds_depay_make_opaque (self, decoded);
  /* pool_info is the caps' layout, tight for RGBA; a buffer with a
   * GstVideoMeta is mapped with the meta's strides and offsets */
  if (gst_video_frame_map (&src, &self->pool_info, decoded, GST_MAP_READ)) {
    if (gst_video_frame_map (&dst, &self->pool_info, picture, GST_MAP_WRITE)) {
      ok = gst_video_frame_copy (&dst, &src);
      gst_video_frame_unmap (&dst);
    }
    gst_video_frame_unmap (&src);
  }

  reference = gst_buffer_get_all_memory (decoded);
  gst_ds_depay_set_reference (self, reference, width, height);
  if (reference)
    gst_memory_unref (reference);
  gst_buffer_unref (decoded);

  if (!ok)
    goto copy_failed;

  if (!gst_ds_depay_has_video_meta (picture, width, height))
    gst_buffer_add_video_meta_full (picture, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_FORMAT_RGBA, width, height, 1, self->pool_info.offset,
        self->pool_info.stride);

  return gst_ds_depay_push (self, STREAM_VIDEO, picture, pts,
      gst_ds_depay_picture_duration (self));

  /* ERRORS */
copy_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        (_("Could not read or write a picture in memory.")),
        ("could not copy a %ux%u picture into a buffer of the pool", width,
            height));
    gst_buffer_unref (picture);
    return GST_FLOW_ERROR;
  }
}

GstFlowReturn
gst_ds_depay_handle_delta (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime pts, guint missing, guint max_size)
{
  gboolean keyframe = (header->flags & DS_FLAG_KEYFRAME) != 0;
  gboolean motion = header->type == DS_FRAME_MOTION_DELTA_PIXELS;
  gboolean wait_for_keyframe, direct = FALSE;
  GstMapInfo in_map, out_map, ref_map;
  const guint8 *code;
  gsize code_len, size;
  GstBuffer *picture = NULL, *decoded = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  GError *error = NULL;
  gboolean ok;

  size = (gsize) header->width * header->height * 4;
  /* the picture is bounded like a Pixels frame's payload */
  if (size > max_size)
    goto too_large;

  GST_OBJECT_LOCK (self);
  wait_for_keyframe = self->wait_for_keyframe;
  GST_OBJECT_UNLOCK (self);

  if (!keyframe) {
    if (missing > 0 && wait_for_keyframe)
      gst_ds_depay_start_waiting_for_keyframe (self, "frames lost");
    else if (self->reference == NULL)
      gst_ds_depay_start_waiting_for_keyframe (self, "delta without a "
          "reference picture");
    else if (self->ref_width != header->width ||
        self->ref_height != header->height)
      gst_ds_depay_start_waiting_for_keyframe (self, "delta of another size "
          "than its reference");

    if (gst_ds_depay_is_waiting_for_keyframe (self))
      goto drop;
  }

  if (!gst_buffer_map (payload, &in_map, GST_MAP_READ))
    goto drop;

  code = in_map.data;
  code_len = in_map.size;
  if (header->flags & DS_FLAG_COMPRESSED) {
    gsize limit = DS_RLE_MAX_ENCODED_SIZE (size);

    if (motion)
      limit += DS_MOTION_TABLE_SIZE (DS_MOTION_MAX_MOVES);
    limit = MIN (limit, (gsize) max_size);

    if (!gst_ds_depay_decompress (self, in_map.data, in_map.size, limit,
            &code, &code_len, &error)) {
      gst_buffer_unmap (payload, &in_map);
      goto decode_failed;
    }
  }

  /* The run-length code (after the moves of a MotionDeltaPixels, which
   * copy rectangles of the reference into the picture first) decodes
   * into whole pictures: straight into a
   * buffer of the negotiated pool when its rows are tight, else into a
   * tight picture of our own, copied into a buffer of the pool row by row
   * afterwards. The first picture of new caps is decoded before the caps
   * go out, so that a picture that cannot be decoded adds no pad. */
  if (gst_ds_depay_has_pool_for (self, header->width, header->height)) {
    ret = gst_ds_depay_acquire_output (self, header->width, header->height,
        &picture);
    if (ret != GST_FLOW_OK) {
      gst_buffer_unmap (payload, &in_map);
      goto no_buffer;
    }
    if (gst_ds_depay_is_tight (picture, header->width, size)) {
      decoded = picture;
      picture = NULL;
      direct = TRUE;
    }
  }
  if (decoded == NULL) {
    decoded = gst_ds_depay_acquire_tight (self, size);
    if (decoded == NULL) {
      gst_buffer_unmap (payload, &in_map);
      ret = GST_FLOW_ERROR;
      goto no_buffer;
    }
  }

  ok = gst_buffer_map (decoded, &out_map, GST_MAP_WRITE);
  if (ok) {
    if (keyframe) {
      ok = ds_rle_decode_xor (code, code_len, NULL, out_map.data, size, &error);
    } else {
      ok = gst_memory_map (self->reference, &ref_map, GST_MAP_READ);
      if (ok) {
        if (ref_map.size != size)
          ok = FALSE;
        else if (motion)
          ok = ds_motion_decode (code, code_len, ref_map.data, out_map.data,
              header->width, header->height, &error);
        else
          ok = ds_rle_decode_xor (code, code_len, ref_map.data, out_map.data,
              size, &error);
        gst_memory_unmap (self->reference, &ref_map);
      }
    }
    gst_buffer_unmap (decoded, &out_map);
  }
  gst_buffer_unmap (payload, &in_map);
  gst_clear_buffer (&payload);

  if (!ok) {
    gst_buffer_unref (decoded);
    gst_clear_buffer (&picture);
    goto decode_failed;
  }

  if (keyframe)
    gst_ds_depay_stop_waiting_for_keyframe (self);

  if (direct)
    return gst_ds_depay_push_picture (self, decoded, header->width,
        header->height, pts);
  if (picture == NULL) {
    ret = gst_ds_depay_acquire_output (self, header->width, header->height,
        &picture);
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (decoded);
      goto no_buffer;
    }
  }
  return gst_ds_depay_push_copied_picture (self, decoded, picture,
      header->width, header->height, pts);

  /* ERRORS */
too_large:
  {
    gst_ds_depay_skip_malformed (self, "%s frame %ux%u is larger "
        "than max-frame-size (%u) once decoded",
        ds_frame_type_name (header->type), header->width,
        header->height, max_size);
    gst_buffer_replace (&payload, NULL);
    /* keyframe or not, what the sender sends next refers to it */
    gst_ds_depay_start_waiting_for_keyframe (self, "picture too large");
    return GST_FLOW_OK;
  }
drop:
  {
    GST_DEBUG_OBJECT (self, "dropping delta seq %u while waiting for a "
        "keyframe", header->seq);
    gst_ds_depay_count_dropped (self);
    gst_buffer_unref (payload);
    return GST_FLOW_OK;
  }
decode_failed:
  {
    gst_ds_depay_skip_malformed (self, "%s frame seq %u %ux%u: %s",
        ds_frame_type_name (header->type), header->seq, header->width,
        header->height, error ? error->message : "reference of the wrong size");
    g_clear_error (&error);
    gst_buffer_replace (&payload, NULL);
    gst_ds_depay_count_dropped (self);
    /* the reference is intact, but whatever came after it on the sender's
     * side is not: only a keyframe helps now */
    gst_ds_depay_start_waiting_for_keyframe (self, "undecodable delta");
    return GST_FLOW_OK;
  }
no_buffer:
  {
    gst_clear_buffer (&picture);
    gst_clear_buffer (&payload);
    /* downstream's pool is flushing: no error */
    if (ret == GST_FLOW_FLUSHING)
      return ret;
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        (_("Could not allocate memory for a picture.")),
        ("could not get a buffer of %" G_GSIZE_FORMAT " bytes (%s)", size,
            gst_flow_get_name (ret)));
    return GST_FLOW_ERROR;
  }
}

GstFlowReturn
gst_ds_depay_handle_image (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime pts)
{
  guint8 head[32];
  gsize head_len;
  const gchar *media_type;
  gboolean is_webp;

  head_len = gst_buffer_extract (payload, 0, head, sizeof (head));
  media_type = ds_image_sniff (head, head_len, NULL, NULL);
  if (media_type == NULL)
    goto unknown_format;
  is_webp = g_str_equal (media_type, "image/webp");

  gst_ds_depay_prepare_pad (self, STREAM_IMAGE, is_webp, 0, 0, 0,
      gst_ds_depay_image_caps);

  GST_OBJECT_LOCK (self);
  self->image_width = header->width;
  self->image_height = header->height;
  GST_OBJECT_UNLOCK (self);

  return gst_ds_depay_push (self, STREAM_IMAGE, payload, pts,
      GST_CLOCK_TIME_NONE);

  /* ERRORS */
unknown_format:
  {
    gst_ds_depay_skip_malformed (self, "CompressedPixels frame seq %u is "
        "neither PNG nor WebP", header->seq);
    gst_buffer_replace (&payload, NULL);
    return GST_FLOW_OK;
  }
}

/* Encoded video */

/* The caps key of encoded video: the codec above the width (<= 65535) so
 * that no key of encoded caps is one of raw pictures, and for H.264 the
 * SPS's constraint flags in the top byte; the second key is the height
 * with profile_idc and level_idc above it */
#define ENCODED_KEY_CODEC(key0) (((key0) >> 16) & 0xff)
#define ENCODED_KEY_WIDTH(key0) ((key0) & 0xffff)
#define ENCODED_KEY_HEIGHT(key1) ((key1) & 0xffff)

static GstCaps *
gst_ds_depay_encoded_caps (GstDsDepay * self, guint key0, guint key1,
    guint fps_n, guint fps_d)
{
  guint codec = ENCODED_KEY_CODEC (key0);
  GstCaps *caps;

  switch (codec) {
    case DS_CODEC_H264:
    case DS_CODEC_H265:
      caps = gst_caps_new_simple (codec == DS_CODEC_H264 ? "video/x-h264" :
          "video/x-h265", "stream-format", G_TYPE_STRING, "byte-stream",
          "alignment", G_TYPE_STRING, "au", NULL);
      /* the profile and level of the SPS: decoders such as openh264dec
       * take only the profiles they know */
      if (codec == DS_CODEC_H264 && self->h264_profile[0] != 0)
        gst_codec_utils_h264_caps_set_level_and_profile (caps,
            self->h264_profile, sizeof (self->h264_profile));
      break;
    case DS_CODEC_VP8:
      caps = gst_caps_new_empty_simple ("video/x-vp8");
      break;
    case DS_CODEC_VP9:
      caps = gst_caps_new_empty_simple ("video/x-vp9");
      break;
    default:
      caps = gst_caps_new_simple ("video/x-av1",
          "stream-format", G_TYPE_STRING, "obu-stream",
          "alignment", G_TYPE_STRING, "tu", NULL);
      break;
  }
  gst_caps_set_simple (caps, "width", G_TYPE_INT,
      (gint) ENCODED_KEY_WIDTH (key0), "height", G_TYPE_INT,
      (gint) ENCODED_KEY_HEIGHT (key1), "framerate", GST_TYPE_FRACTION,
      (gint) fps_n, (gint) fps_d, NULL);
  return caps;
}

/* Notes profile_idc, the constraint flags and level_idc of the first SPS
 * (NAL unit type 7) in an H.264 Annex B unit at @offset of @payload (the
 * three bytes after the NAL header: no emulation prevention byte can be
 * among them, profile_idc is not 0) */
static void
gst_ds_depay_note_h264_sps (GstDsDepay * self, GstBuffer * payload,
    gsize offset)
{
  GstMapInfo map;
  gsize i;

  if (!gst_buffer_map (payload, &map, GST_MAP_READ))
    return;
  for (i = offset; i + 6 < map.size; i++) {
    if (map.data[i] != 0 || map.data[i + 1] != 0 || map.data[i + 2] != 1)
      continue;
    if ((map.data[i + 3] & 0x1f) == 7 && map.data[i + 4] != 0) {
      memcpy (self->h264_profile, map.data + i + 4, 3);
      break;
    }
    i += 2;
  }
  gst_buffer_unmap (payload, &map);
}

GstFlowReturn
gst_ds_depay_handle_encoded (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime pts, guint8 codec, gboolean decodable)
{
  gboolean keyframe = (header->flags & DS_FLAG_KEYFRAME) != 0;
  GstBuffer *unit;

  if (!decodable)
    goto no_keyframe;

  if (keyframe) {
    gst_ds_depay_stop_waiting_for_keyframe (self);
    /* the raw picture before is not what the sender shows any more */
    gst_ds_depay_set_reference (self, NULL, 0, 0);
    if (codec == DS_CODEC_H264)
      gst_ds_depay_note_h264_sps (self, payload, DS_ENCODED_VIDEO_PREFIX_SIZE);
  }

  if (codec == DS_CODEC_H264)
    gst_ds_depay_prepare_pad (self, STREAM_VIDEO,
        ((guint) self->h264_profile[1] << 24) | ((guint) codec << 16) |
        header->width, ((guint) self->h264_profile[2] << 24) |
        ((guint) self->h264_profile[0] << 16) | header->height, self->fps_n,
        self->fps_d, gst_ds_depay_encoded_caps);
  else
    gst_ds_depay_prepare_pad (self, STREAM_VIDEO,
        ((guint) codec << 16) | header->width, header->height, self->fps_n,
        self->fps_d, gst_ds_depay_encoded_caps);

  GST_OBJECT_LOCK (self);
  self->video_width = header->width;
  self->video_height = header->height;
  GST_OBJECT_UNLOCK (self);

  unit = gst_buffer_copy_region (payload, GST_BUFFER_COPY_MEMORY,
      DS_ENCODED_VIDEO_PREFIX_SIZE, -1);
  gst_buffer_unref (payload);

  return gst_ds_depay_push_full (self, STREAM_VIDEO, unit, pts,
      gst_ds_depay_picture_duration (self), !keyframe);

  /* ERRORS */
no_keyframe:
  {
    GST_DEBUG_OBJECT (self, "%s access unit seq %u without its keyframe: "
        "skipped", ds_codec_name (codec), header->seq);
    gst_ds_depay_count_dropped (self);
    gst_ds_depay_start_waiting_for_keyframe (self, "access unit without its "
        "keyframe");
    gst_buffer_unref (payload);
    return GST_FLOW_OK;
  }
}

/* A picture that was skipped: what the sender sends next is relative to
 * it, so only a keyframe helps */
void
gst_ds_depay_skip_picture (GstDsDepay * self, const DsHeader * header)
{
  if (ds_frame_type_media (header->type) != DS_MEDIA_VIDEO)
    return;
  ds_encoded_video_state_lose (&self->encoded);
  gst_ds_depay_start_waiting_for_keyframe (self, "malformed picture");
}
