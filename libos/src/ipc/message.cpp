// The framing of the messages between processes (see message.h).
#include "message.h"

namespace carbyne::libos::ipc {

bool msg_head_valid(const MsgHead& head) {
    if (head.size > kMaxPayload || head.flags)
        return false;
    switch (MsgType(head.type)) {
    case MsgType::AllocId:
    case MsgType::NewMember:
    case MsgType::Fs:
    case MsgType::Proc:
    case MsgType::Push:
    case MsgType::UnixName:
    case MsgType::Error: return true;
    default: return false;
    }
}

}  // namespace carbyne::libos::ipc
