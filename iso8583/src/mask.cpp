#include "eft/iso8583/mask.hpp"

namespace eft::iso8583 {

std::string mask_pan(std::string_view pan) {
  std::string out(pan.size(), '*');
  if (pan.size() >= 13) {
    out.replace(0, 6, pan.substr(0, 6));
    out.replace(pan.size() - 4, 4, pan.substr(pan.size() - 4));
  } else if (pan.size() > 4) {
    out.replace(pan.size() - 4, 4, pan.substr(pan.size() - 4));
  }
  return out;
}

std::string mask_value(sensitivity s, std::string_view value) {
  switch (s) {
    case sensitivity::none:
      return std::string(value);
    case sensitivity::pan:
      return mask_pan(value);
    case sensitivity::track:
    case sensitivity::pin:
    case sensitivity::secret:
    case sensitivity::tags:
      return std::string(redacted);
  }
  return std::string(redacted);
}

}  // namespace eft::iso8583
