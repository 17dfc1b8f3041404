# SPDX-License-Identifier: GPL-2.0
#
# fewmul compat: build-time checks of the kernel the module is built
# against, included by ./Kbuild. Each API that differs between 6.1 and
# mainline is detected in the kernel's own headers (stable kernels
# backport changes, so the version number does not tell) and passed to
# kmod/fewmul_compat.h as a FEWMUL_HAVE_* flag.

# The oldest kernel supported: one clear message instead of compiler errors.
fewmul-min-version := 6.1
ifneq ($(VERSION),)
ifeq ($(shell [ $$(( $(VERSION) * 256 + $(PATCHLEVEL) )) -lt 1537 ] && echo old),old)
$(error fewmul needs Linux $(fewmul-min-version) or later; $(KERNELRELEASE) in $(srctree) is too old)
endif
endif

# $(call fewmul-hdr,<path under include/>): the header as the build sees it.
# (A pattern below says "." for "(": make would count the parenthesis.)
fewmul-hdr = $(firstword $(wildcard $(srctree)/include/$(1) $(objtree)/include/$(1)))

# Symbol namespaces as string literals (6.13).
fewmul-have-ns-string := $(shell grep -s 'define MODULE_IMPORT_NS' \
	$(call fewmul-hdr,linux/module.h) | grep -qv __stringify && echo y)
ifeq ($(fewmul-have-ns-string),y)
ccflags-y += -DFEWMUL_HAVE_NS_STRING
endif

# sk_uid() (mainline, replaces sock_i_uid()).
fewmul-have-sk-uid := $(shell grep -qs 'kuid_t sk_uid.const struct sock' \
	$(call fewmul-hdr,net/sock.h) && echo y)
ifeq ($(fewmul-have-sk-uid),y)
ccflags-y += -DFEWMUL_HAVE_SK_UID
endif
