; Hearth's Windows installer: a per-user install (no administrator rights), a Start menu
; shortcut, an entry in Settings > Apps with an uninstaller. Models, chats and settings live in
; %LOCALAPPDATA%\Hearth (platformdirs), apart from the program, so upgrades and uninstalls keep
; them; the uninstaller removes them only when the person ticks that box, or, silently, when
; given /REMOVEDATA:
;
;   uninstall.exe /S               removes the program, keeps models, chats and settings
;   uninstall.exe /S /REMOVEDATA   removes those too
;
; The installer takes NSIS's own /S (silent) and /D=<folder> (install folder, last argument).
;
;   makensis -DVERSION=0.1.0 -DPAYLOAD=dist\hearth -DICON=build\icons\hearth.ico ^
;            -DOUTFILE=dist\hearth-0.1.0-windows-x64-setup.exe packaging\windows\hearth.nsi
;
; PAYLOAD is the PyInstaller one-folder bundle (hearth.exe and _internal\); build-installer.sh
; runs this after build-bundle.sh.

!ifndef VERSION
  !error "VERSION is not defined (-DVERSION=...)"
!endif
!ifndef PAYLOAD
  !error "PAYLOAD is not defined (-DPAYLOAD=folder of the bundle)"
!endif
!ifndef OUTFILE
  !error "OUTFILE is not defined (-DOUTFILE=...)"
!endif
!ifndef ICON
  !error "ICON is not defined (-DICON=hearth.ico)"
!endif
!ifndef FILE_VERSION
  ; Windows wants four numbers here; build-installer.sh passes those of a version like 1.2.0rc1
  !define FILE_VERSION "${VERSION}.0"
!endif

!define APP "Hearth"
!define EXE "hearth.exe"
!define CLI "hearth-cli.exe"  ; the same program for a terminal (packaging/hearth.spec)
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user
Name "${APP}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${APP} ${VERSION}"
VIProductVersion "${FILE_VERSION}"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${FILE_VERSION}"
VIAddVersionKey "FileDescription" "${APP} installer"
VIAddVersionKey "LegalCopyright" "The Hearth developers"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "Sections.nsh"
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APP}"
!define MUI_UNCOMPONENTSPAGE_TEXT_TOP "${APP} will be removed. Your models, chats and settings stay unless you tick the box below."

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; What the bundle puts in the program folder: PyInstaller's one-folder layout, its two
; programs and _internal. An upgrade removes them before the new files go in (files the new
; version no longer has must not stay) and the uninstaller removes them; never the folder
; whole, which may hold other things the person put there.
!macro RemoveProgram
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\${CLI}"
!macroend

Section "${APP}" SecApp
  SectionIn RO
  SetShellVarContext current
  !insertmacro RemoveProgram
  SetOutPath "$INSTDIR"
  File /r "${PAYLOAD}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "The Hearth developers"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

Section "un.${APP}" UnSecApp
  SectionIn RO
  SetShellVarContext current
  Delete "$SMPROGRAMS\${APP}.lnk"
  !insertmacro RemoveProgram
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"  ; only if empty: never a folder the person put other things in
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd

Section /o "un.Also remove my models, chats and settings" UnSecData
  ; platformdirs' folders for Hearth (data, settings, logs and cache all live under it).
  ; Models kept in a folder chosen in Settings are the person's and stay.
  RMDir /r "$LOCALAPPDATA\${APP}"
SectionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecApp} "The program, its Start menu shortcut and its entry in Apps."
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecData} "Everything in $LOCALAPPDATA\${APP}: downloaded models, chats, comparisons, settings and logs."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

; A silent uninstall shows no box to tick: /REMOVEDATA ticks it.
Function un.onInit
  ${un.GetParameters} $R0
  ClearErrors
  ${un.GetOptions} $R0 "/REMOVEDATA" $R1
  ${IfNot} ${Errors}
    SectionSetFlags ${UnSecData} ${SF_SELECTED}
  ${EndIf}
FunctionEnd
