{
  # The optional native socket (Linux only): built by `npm install` via node-gyp; when it is
  # missing or fails to build, udpkit uses node:dgram. See native/udpkit.h and src/native/.
  "targets": [
    {
      "target_name": "udpkit_native",
      "sources": ["native/udpkit.cc", "native/poll.cc", "native/receive.cc", "native/send.cc", "native/util.cc", "native/format.cc", "native/format-lines.cc", "native/capture.cc", "native/pipe.cc"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
