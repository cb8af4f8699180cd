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

/* PLACEHOLDER: replaced by the real element */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdsstreamelements.h"
#include "gstdsdepay.h"

struct _GstDsDepay
{
  GstElement parent;
};

G_DEFINE_TYPE (GstDsDepay, gst_ds_depay, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsdepay, "dsdepay", GST_RANK_NONE,
    GST_TYPE_DS_DEPAY, ds_stream_element_init (plugin));

static void
gst_ds_depay_class_init (GstDsDepayClass * klass)
{
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "dsdepay", "Codec", "placeholder", "gst-ds-stream developers");
}

static void
gst_ds_depay_init (GstDsDepay * self)
{
}
