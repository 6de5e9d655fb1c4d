# units.cmake: run by `cmake --install` (deploy/systemd/CMakeLists.txt), it writes the systemd
# units and the monthly report script with the paths of THIS installation (the prefix given to
# `cmake --install --prefix`, else the configured one) and installs them (DESTDIR applies).
#
# In: JC_SRC (deploy/systemd), JC_STAGE (a build-tree directory to write into), JC_UNITDIR and
# JC_SYSUSERSDIR (relative to the prefix unless absolute), JC_HARDENING (the sandbox's lines),
# and the relative CMAKE_INSTALL_*DIR values of the configuration. Absolute directories follow
# GNUInstallDirs (with the prefix /usr, the configuration is in /etc/jiceng).
include(GNUInstallDirs)
foreach(dir BINDIR LIBEXECDIR SYSCONFDIR DOCDIR)
  GNUInstallDirs_get_absolute_install_dir(_full CMAKE_INSTALL_${dir} ${dir})
  set(JICENG_${dir} "${_full}")
endforeach()
set(JICENG_LIBEXECDIR "${JICENG_LIBEXECDIR}/jiceng")
set(JICENG_CONFDIR "${JICENG_SYSCONFDIR}/jiceng")
set(JICENG_SYSTEMD_HARDENING "${JC_HARDENING}")

# DIR relative to the prefix, or absolute as it is, into the variable out
function(jc_prefixed out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

foreach(unit jiceng-aggregate@.service jiceng-report.service)
  configure_file("${JC_SRC}/${unit}.in" "${JC_STAGE}/${unit}" @ONLY)
endforeach()
configure_file("${JC_SRC}/jiceng-report-monthly.in" "${JC_STAGE}/jiceng-report-monthly" @ONLY)

jc_prefixed(_unitdir "${JC_UNITDIR}")
jc_prefixed(_sysusersdir "${JC_SYSUSERSDIR}")
file(INSTALL "${JC_STAGE}/jiceng-aggregate@.service" "${JC_STAGE}/jiceng-report.service"
     "${JC_SRC}/jiceng-report.timer" DESTINATION "${_unitdir}")
file(INSTALL "${JC_SRC}/jiceng.sysusers" DESTINATION "${_sysusersdir}" RENAME jiceng.conf)
file(INSTALL "${JC_STAGE}/jiceng-report-monthly" DESTINATION "${JICENG_LIBEXECDIR}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                      WORLD_EXECUTE)
