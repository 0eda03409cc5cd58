; The Windows installer of ShareGuard, built on Linux with Debian's makensis
; by scripts/build-windows-installer.sh (or on Windows with NSIS 3).
;
; Per-user: it needs no administrator, installs to
; %LOCALAPPDATA%\Programs\ShareGuard like other per-user desktop apps, puts
; the command line `shareguard` on the user's PATH (from a bin folder of its
; own: Windows' names ignore case, so shareguard.exe and ShareGuard.exe
; cannot share a folder), and adds a Start menu
; entry and an entry in Settings > Apps. The uninstaller removes the program,
; its PATH entry and the start-at-login entry the app may have made, and
; keeps the owner's data (database, logs) and the router passwords in
; Credential Manager, which are the owner's to delete.
;
; Defines passed by the build script: VERSION, APP_EXE, CLI_EXE, LOADER_DLL,
; ICON, PNG, OUTFILE.

; A 64-bit installer for a 64-bit app (it also runs under 64-bit-only Wine).
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "StrFunc.nsh"
!include "WinMessages.nsh"
${StrStr}
${UnStrRep}

!define PRODUCT "ShareGuard"
!define PUBLISHER "ShareGuard"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT}"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define APPROVED_KEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
; Desktop notifications of an installed (unpackaged) app carry its
; AppUserModelID, the app's identifier; Windows shows them under the name
; and icon registered here.
!define AUMID "net.shareguard.app"
!define AUMID_KEY "Software\Classes\AppUserModelId\${AUMID}"
; The Evergreen WebView2 runtime's client id (Microsoft's documented key).
!define WEBVIEW2_ID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${PRODUCT}.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCT}"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; The window is drawn by Microsoft Edge WebView2, part of Windows 11 and of
; an updated Windows 10. Without it the app cannot open its window, so say
; so before installing rather than after.
Function .onInit
    ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_ID}" "pv"
    ${If} $0 == ""
        ReadRegStr $0 HKLM "SOFTWARE\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_ID}" "pv"
    ${EndIf}
    ${If} $0 == ""
        ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_ID}" "pv"
    ${EndIf}
    ${If} $0 == ""
    ${OrIf} $0 == "0.0.0.0"
        IfSilent done
        MessageBox MB_YESNO|MB_ICONEXCLAMATION \
            "${PRODUCT} draws its window with Microsoft Edge WebView2, which this computer does not seem to have.$\r$\n$\r$\nInstall the WebView2 Runtime from https://go.microsoft.com/fwlink/p/?LinkId=2124703 (free, from Microsoft), then start ${PRODUCT}.$\r$\n$\r$\nInstall ${PRODUCT} now anyway?" \
            IDYES done
        Abort
    done:
    ${EndIf}
FunctionEnd

Section "${PRODUCT}" main
    SectionIn RO
    SetOutPath "$INSTDIR"
    ; A running copy holds its files open; NSIS then offers Retry.
    File "/oname=${PRODUCT}.exe" "${APP_EXE}"
    File "${LOADER_DLL}"
    SetOutPath "$INSTDIR\bin"
    File "/oname=shareguard.exe" "${CLI_EXE}"
    SetOutPath "$INSTDIR"
    WriteUninstaller "$INSTDIR\uninstall.exe"

    File "/oname=${PRODUCT}.png" "${PNG}"
    CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\${PRODUCT}.exe"
    WriteRegStr HKCU "${AUMID_KEY}" "DisplayName" "${PRODUCT}"
    WriteRegStr HKCU "${AUMID_KEY}" "IconUri" "$INSTDIR\${PRODUCT}.png"

    WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${PRODUCT}.exe"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
    WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
    WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
    WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

    ; The command line on the user's PATH, once.
    ReadRegStr $0 HKCU "Environment" "Path"
    ${StrStr} $1 ";$0;" ";$INSTDIR\bin;"
    ${If} $1 == ""
        ${If} $0 == ""
            WriteRegExpandStr HKCU "Environment" "Path" "$INSTDIR\bin"
        ${Else}
            WriteRegExpandStr HKCU "Environment" "Path" "$0;$INSTDIR\bin"
        ${EndIf}
        SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
    ${EndIf}
SectionEnd

Section "Uninstall"
    Delete "$INSTDIR\${PRODUCT}.exe"
    Delete "$INSTDIR\WebView2Loader.dll"
    Delete "$INSTDIR\${PRODUCT}.png"
    Delete "$INSTDIR\bin\shareguard.exe"
    RMDir "$INSTDIR\bin"
    Delete "$INSTDIR\uninstall.exe"
    RMDir "$INSTDIR"
    Delete "$SMPROGRAMS\${PRODUCT}.lnk"

    ; Start at login, if the owner turned it on in the app.
    DeleteRegValue HKCU "${RUN_KEY}" "${PRODUCT}"
    DeleteRegValue HKCU "${APPROVED_KEY}" "${PRODUCT}"

    ReadRegStr $0 HKCU "Environment" "Path"
    ${UnStrRep} $0 ";$0;" ";$INSTDIR\bin;" ";"
    ; Drop the separators the wrapping added.
    StrCpy $1 $0 1
    ${If} $1 == ";"
        StrCpy $0 $0 "" 1
    ${EndIf}
    StrCpy $1 $0 1 -1
    ${If} $1 == ";"
        StrCpy $0 $0 -1
    ${EndIf}
    ${If} $0 == ""
        DeleteRegValue HKCU "Environment" "Path"
    ${Else}
        WriteRegExpandStr HKCU "Environment" "Path" "$0"
    ${EndIf}
    SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000

    DeleteRegKey HKCU "${AUMID_KEY}"
    DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
