/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour row: nng (see tour_peer.h). */
#define PEER_SCHEME "nng"
#define TOUR_PEER_ROW tour_nng_across_hosts
#include "tour_peer.h"
