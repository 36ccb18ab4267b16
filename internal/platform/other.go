//go:build !linux

package platform

const isLinux = false
