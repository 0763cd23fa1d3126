#pragma once
/// Pipeline stages that use the HSM. Each returns a stage_fn to register with pipeline::add_stage at
/// the point its comment names.

#include "eft/crypto/async_hsm.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/switch/pipeline.hpp"

namespace eft::switch_core {

/// The PIN block format of a config name ("iso0", "iso1", "iso3", "iso4"); iso0 for anything else.
crypto::pin_block_format pin_format_of(std::string_view name) noexcept;

/// PIN translation, at stage_point::routed: when the host request carries field 52, the PIN block is
/// translated inside the HSM from the listener's terminal PIN key (and format) to the route's zone
/// PIN key (and format), with the PAN of the request, and replaces field 52. A PIN block without
/// keys on both sides, or a translation the HSM refuses, is answered with RC 96 (logged without
/// PIN, block or key). The HSM call runs through `hsm` (inline or on its pool) and completes on the
/// session's thread. `hsm` must outlive the pipeline.
stage_fn make_pin_translation_stage(crypto::async_hsm& hsm);

}  // namespace eft::switch_core
